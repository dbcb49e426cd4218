//go:build tools

// Pins kwok, which plays the cluster's nodes and pods so Deployments become Ready without a kubelet.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
