"""HPC adapter: SLURM accounting, compute rewards, Kubernetes node manifests."""
