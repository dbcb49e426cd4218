// A minimal CSI hostpath driver (controller side only): volumes are directories, snapshots are tar.gz files of them.
//
// The Kubernetes CSI project's own csi-driver-host-path is refused by the Go module proxy
// here, so the test cluster runs this one behind the real external-provisioner and
// csi-snapshotter sidecars. It keeps real data on disk: a snapshot is a copy of the
// volume's files taken when CreateSnapshot is called, and a volume created from a
// snapshot holds those files. No kubelet runs, so nothing is ever mounted.
package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	name  string
	state string
	mu    sync.Mutex
}

// Ids derive from the names the sidecars send, so a retried create finds what the first one made.
func idFor(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	return prefix + hex.EncodeToString(sum[:8])
}

func (d *driver) volumeDir(id string) string { return filepath.Join(d.state, "volumes", id) }
func (d *driver) snapshotFile(id string) string {
	return filepath.Join(d.state, "snapshots", id+".tar.gz")
}

func (d *driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.name, VendorVersion: "rebound-test-1"}, nil
}

func (d *driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{{
		Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: csi.PluginCapability_Service_CONTROLLER_SERVICE}},
	}}}, nil
}

func (d *driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{}, nil
}

func (d *driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, c := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: c}}})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

func (d *driver) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if _, err := os.Stat(d.volumeDir(req.GetVolumeId())); err != nil {
		return nil, status.Errorf(codes.NotFound, "volume %s: %v", req.GetVolumeId(), err)
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{VolumeCapabilities: req.GetVolumeCapabilities()}}, nil
}

func (d *driver) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := idFor("vol-", req.GetName())
	dir := d.volumeDir(id)
	source := req.GetVolumeContentSource()
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		partial := dir + ".partial"
		_ = os.RemoveAll(partial)
		if err := os.MkdirAll(partial, 0o755); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		if snap := source.GetSnapshot(); snap != nil {
			if err := untar(d.snapshotFile(snap.GetSnapshotId()), partial); err != nil {
				_ = os.RemoveAll(partial)
				return nil, status.Errorf(codes.NotFound, "snapshot %s: %v", snap.GetSnapshotId(), err)
			}
		}
		if err := os.Rename(partial, dir); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	return &csi.CreateVolumeResponse{Volume: &csi.Volume{
		VolumeId:      id,
		CapacityBytes: req.GetCapacityRange().GetRequiredBytes(),
		ContentSource: source,
		VolumeContext: map[string]string{"path": dir},
	}}, nil
}

func (d *driver) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	if err := os.RemoveAll(d.volumeDir(req.GetVolumeId())); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &csi.DeleteVolumeResponse{}, nil
}

func (d *driver) CreateSnapshot(_ context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	if req.GetName() == "" || req.GetSourceVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "name and source volume are required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := idFor("snap-", req.GetName())
	file := d.snapshotFile(id)
	info, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		src := d.volumeDir(req.GetSourceVolumeId())
		if _, err := os.Stat(src); err != nil {
			return nil, status.Errorf(codes.NotFound, "volume %s: %v", req.GetSourceVolumeId(), err)
		}
		if err := tarDir(src, file); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		info, err = os.Stat(file)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &csi.CreateSnapshotResponse{Snapshot: &csi.Snapshot{
		SnapshotId:     id,
		SourceVolumeId: req.GetSourceVolumeId(),
		SizeBytes:      info.Size(),
		CreationTime:   timestamppb.New(info.ModTime()),
		ReadyToUse:     true,
	}}, nil
}

func (d *driver) DeleteSnapshot(_ context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	if err := os.Remove(d.snapshotFile(req.GetSnapshotId())); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &csi.DeleteSnapshotResponse{}, nil
}

// tarDir writes dir's regular files and folders into a tar.gz, through a partial file renamed at the end.
func tarDir(dir, file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	out, err := os.Create(file + ".partial")
	if err != nil {
		return err
	}
	defer out.Close()
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	err = filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		header, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		header.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(header); err != nil || !info.Mode().IsRegular() {
			return err
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(tw, in)
		return err
	})
	if err == nil {
		err = errors.Join(tw.Close(), gz.Close(), out.Sync())
	}
	if err != nil {
		_ = os.Remove(file + ".partial")
		return err
	}
	return os.Rename(file+".partial", file)
}

func untar(file, dir string) error {
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		header, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(header.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("entry %q leaves the volume", header.Name)
		}
		switch header.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFile(target, tr, header.FileInfo().Mode())
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(path string, from io.Reader, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, from); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func main() {
	endpoint := flag.String("endpoint", "", "unix socket path to serve CSI on")
	name := flag.String("drivername", "hostpath.csi.rebound.test", "CSI driver name")
	state := flag.String("statedir", "", "folder holding volumes/ and snapshots/")
	flag.Parse()
	if *endpoint == "" || *state == "" {
		log.Fatal("--endpoint and --statedir are required")
	}
	_ = os.Remove(*endpoint)
	listener, err := net.Listen("unix", *endpoint)
	if err != nil {
		log.Fatal(err)
	}
	d := &driver{name: *name, state: *state}
	server := grpc.NewServer()
	csi.RegisterIdentityServer(server, d)
	csi.RegisterControllerServer(server, d)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; server.GracefulStop() }()
	log.Printf("serving %s on %s, state in %s", *name, *endpoint, *state)
	if err := server.Serve(listener); err != nil {
		log.Fatal(err)
	}
}
