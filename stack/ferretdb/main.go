// Command ferretdb runs FerretDB's embeddable package as a MongoDB-wire test server for Rebound.
//
// FerretDB's own cmd/ferretdb panics without a generated version file, so the stack builds
// this small main instead (stack/ferretdb.ts). It serves one TCP address with the
// PostgreSQL handler; the PostgreSQL URL carries no password, so every client's
// credentials (authMechanism=PLAIN) become the PostgreSQL login and a wrong one fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL without a password, e.g. postgres://127.0.0.1:5432/ferretdb")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "bad -log-level: %s\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	db, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot start FerretDB: %s\n", err)
		os.Exit(1)
	}

	// SIGTERM or SIGINT: close the listener and every connection, then exit 0.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if err := db.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "FerretDB stopped: %s\n", err)
		os.Exit(1)
	}
}
