"""compress/: PaddleSlim int8 quantization (PTQ and QAT) of a float Paddle inference model."""
