import os

# Quiet TensorFlow's C++ start-up messages in test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
