"""What enters the pipeline: a Paddle inference model (trained here or brought by the user, e.g. fetched from a registry),
resolved once into one value, and the user's own images and labels in their ecosystem's formats."""
