// The Kubernetes volume restore points' kind, in a module of its own: naming it must not load the Kubernetes client.
export const K8S_VOLUME_KIND = 'k8s-volume';
