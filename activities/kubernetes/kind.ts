// The Kubernetes restore points' kinds, in a module of their own: naming them must not load the Kubernetes client.
export const K8S_VOLUME_KIND = 'k8s-volume';
export const K8S_NAMESPACE_KIND = 'k8s-namespace';
