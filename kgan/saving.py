"""`load_generator`: one loader for generator files, Keras or LiteRT."""

import pathlib

GENERATOR_FORMATS = (".keras", ".tflite")


def load_generator(generator, num_threads=1, formats=GENERATOR_FORMATS):
    """Loads a generator file; a model passed in is returned as it is.

    Args:
        generator: A path to a `.keras` file (loaded as a Keras model,
            uncompiled) or a `.tflite` file (a
            `kgan.export.LiteRTGenerator`), or an already loaded model.
        num_threads: LiteRT interpreter threads for a `.tflite` file.
        formats: The file suffixes the caller accepts.

    Returns:
        The loaded generator.
    """
    if not isinstance(generator, (str, pathlib.Path)):
        return generator
    path = pathlib.Path(generator)
    if path.suffix not in formats:
        raise ValueError(
            f"Expected a {' or '.join(formats)} generator file. Received: path={path}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"No such generator file. Received: path={path}")
    if path.suffix == ".tflite":
        from kgan.export import LiteRTGenerator

        return LiteRTGenerator(str(path), num_threads=num_threads)
    import keras

    import kgan.layers  # noqa: F401  (registers kgan's layers for loading)

    return keras.saving.load_model(path, compile=False)
