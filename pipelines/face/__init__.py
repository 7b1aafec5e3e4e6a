"""Face verification: MTCNN detection, alignment, dlib embeddings, quality gates, passive liveness."""
