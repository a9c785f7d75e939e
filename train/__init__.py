"""train/: the model zoo, datasets and training loop; writes a float Paddle inference model with its card."""
