// The EBS volume restore points' kind, in a module of its own: naming it must not load the EC2 client.
export const VOLUME_KIND = 'ebs-volume';
