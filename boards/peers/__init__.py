"""Other toolkits run beside paddle-edge on the same model, data and scorer, so a table can put them side by side."""
