//go:build tools

// Pins the VolumeSnapshot controller and the CSI snapshotter sidecar (external-snapshotter v8.7.0).
package tools

import (
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter"
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
)
