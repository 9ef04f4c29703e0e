"""What depends on one Keras backend or on private Keras APIs, with the reason for each."""
