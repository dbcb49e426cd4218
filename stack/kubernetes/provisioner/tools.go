//go:build tools

// Pins the CSI external-provisioner sidecar, which turns PVCs (also from a VolumeSnapshot) into volumes.
package tools

import _ "github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner"
