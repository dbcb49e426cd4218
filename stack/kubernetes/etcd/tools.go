//go:build tools

// Pins etcd 3.6 (watch progress requests that the apiserver and kwok rely on; Debian's 3.4 lacks them).
package tools

import _ "go.etcd.io/etcd/server/v3"
