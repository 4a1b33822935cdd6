"""One video to its faces: fetch (cached), sniff the container, decode and sample frames,
detect (MTCNN), embed (one class per embedder), apparent age (faceres), the .npz cache."""
