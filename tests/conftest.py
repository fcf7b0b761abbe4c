import os

# Quiet TensorFlow's C++ start-up messages in test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "PYTEST_XDIST_WORKER" in os.environ:
    # pytest-xdist runs one worker per core: one TensorFlow thread each
    # keeps the workers from competing for the same cores (inter-op threads
    # stay: mirrored all-reduces wait on each other).
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
