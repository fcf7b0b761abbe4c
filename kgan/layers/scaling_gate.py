import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class ScalingGate(keras.layers.Layer):
    """Per-filter scaling factors with an L1 penalty, for network slimming.

    It follows: `y = x * s`, where `s` holds one factor per filter (the last
    axis) and starts at 1. Each call adds `l1 * sum(|s|)` to the layer's
    losses, so a training loop that minimises `model.losses` drives the
    factors of unneeded filters towards zero. `l1` lives in a non-trainable
    variable: assign `gate.l1 = value` between `fit` calls to switch the
    penalty on, raise it or turn it off, without recompiling.

    One gate may be called on several tensors, as the convolutions of a
    channel group (a residual trunk) share one set of factors; its penalty
    then counts once, not once per call.

    Place the gate after the normalization that follows a convolution (a
    gate before BatchNormalization is cancelled by it); without a
    normalization layer, directly after the convolution.

    Args:
        l1: Non-negative strength of the L1 penalty. Defaults to `0.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor whose last axis holds the filters.

    Returns:
        A tensor of the same shape and dtype as `inputs`.

    Reference:
        - Minezawa, Yoshida, Sugimoto, "Compact GAN", Mitsubishi Electric.
        - Liu et al., "Learning Efficient Convolutional Networks through
          Network Slimming", ICCV 2017.
    """

    def __init__(self, l1=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._l1 = _check_l1(l1)
        self.l1_variable = None

    @property
    def l1(self):
        if self.l1_variable is None:
            return self._l1
        return float(ops.convert_to_numpy(self.l1_variable.value))

    @l1.setter
    def l1(self, value):
        self._l1 = _check_l1(value)
        if self.l1_variable is not None:
            self.l1_variable.assign(self._l1)

    def build(self, input_shape):
        filters = input_shape[-1]
        if filters is None:
            raise ValueError(
                "ScalingGate needs a known number of filters on the last axis. "
                f"Received: input_shape={input_shape}"
            )
        self.scale = self.add_weight(shape=(filters,), name="scale", initializer="ones")
        self.l1_variable = self.add_weight(
            shape=(),
            name="l1",
            initializer=keras.initializers.Constant(self._l1),
            trainable=False,
        )

    def call(self, inputs):
        # A gate shared by the convolutions of a channel group is called once
        # per convolution; its factors are penalised once in all.
        calls = max(1, len(self._inbound_nodes))
        self.add_loss(self.penalty() / calls)
        return inputs * ops.cast(self.scale, inputs.dtype)

    def penalty(self):
        """Returns `l1 * sum(|s|)` as a float32 scalar tensor."""
        return self.l1_variable * ops.sum(ops.abs(self.scale))

    def mask(self, threshold):
        """Returns a boolean NumPy array: `True` for filters with `|s| > threshold`.

        Args:
            threshold: Non-negative float. `mask(0.0)` drops exactly the
                filters whose factor is 0.
        """
        if threshold < 0:
            raise ValueError(
                f"`threshold` must be non-negative. Received: threshold={threshold}"
            )
        return np.abs(ops.convert_to_numpy(self.scale.value)) > threshold

    def fold_into(self, *layers):
        """Folds the factors into the preceding layers and resets them to 1.

        After folding, the gate is the identity and each layer computes
        what it computed followed by the gate, so the gate can be dropped
        for export. A gate shared by a channel group folds into the layer
        before each of its calls.

        Args:
            *layers: The layers whose outputs feed the gate: each a
                `BatchNormalization` or `GroupNormalization` with
                `scale=True` (gamma and beta are multiplied by `s`), or a
                layer with a `kernel` whose last axis is the filter axis,
                such as `Conv2D`, `Conv2DTranspose` or `Dense` (kernel and
                bias are multiplied by `s`).
        """
        if not layers:
            raise ValueError("Pass at least one layer to fold into. Received: ()")
        factors = ops.convert_to_numpy(self.scale.value)
        for layer in layers:
            _fold(layer, factors)
        self.scale.assign(np.ones_like(factors))

    def fold_into_consumers(self, *layers):
        """Folds the factors into the layers that take the gate's output
        and resets them to 1: each kernel's input-channel axis is multiplied
        by `s`, so the layer computes on the ungated input what it computed
        on the gated one, whatever came before the gate (an activation).

        Args:
            *layers: Every layer that takes the gate's output, each a
                `Conv2D`, `Conv2DTranspose` or `Dense`.
        """
        if not layers:
            raise ValueError("Pass at least one layer to fold into. Received: ()")
        factors = ops.convert_to_numpy(self.scale.value)
        for layer in layers:
            kernel = getattr(layer, "kernel", None)
            if kernel is None:
                raise ValueError(
                    "A gate folds forward only into layers with a kernel. "
                    f"Received: layer={layer.name} ({type(layer).__name__})"
                )
            # Input channels: (h, w, in, out), (h, w, out, in) when
            # transposed, (in, out) for a dense layer.
            axis = -1 if isinstance(layer, keras.layers.Conv2DTranspose) else -2
            _check_filters(kernel.shape[axis], factors)
            shape = [1] * len(kernel.shape)
            shape[axis] = len(factors)
            kernel.assign(ops.convert_to_numpy(kernel.value) * factors.reshape(shape))
        self.scale.assign(np.ones_like(factors))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1})
        return config


def _check_l1(value):
    if not isinstance(value, (int, float, np.floating, np.integer)) or value < 0:
        raise ValueError(f"`l1` must be a non-negative number. Received: l1={value!r}")
    return float(value)


def _check_filters(count, factors):
    if count != len(factors):
        raise ValueError(
            f"The gate has {len(factors)} factors but the layer it folds into "
            f"has {count} filters. Received: filters={count}"
        )


def _scale_last_axis(variables, factors):
    for variable in variables:
        _check_filters(variable.shape[-1], factors)
        variable.assign(ops.convert_to_numpy(variable.value) * factors)


def _fold(layer, factors):
    norms = (keras.layers.BatchNormalization, keras.layers.GroupNormalization)
    if isinstance(layer, norms):
        name = type(layer).__name__
        if not layer.scale:
            raise ValueError(
                f"A gate folds into {name} only when it has a gamma "
                f"(scale=True). Received: layer={layer.name}"
            )
        ndim = getattr(layer.input_spec, "ndim", None)
        if layer.axis != -1 and (ndim is None or layer.axis != ndim - 1):
            raise ValueError(
                f"A gate folds into {name} only over the last axis. "
                f"Received: axis={layer.axis}"
            )
        targets = [layer.gamma] + ([layer.beta] if layer.center else [])
        _scale_last_axis(targets, factors)
    elif getattr(layer, "kernel", None) is not None:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            # Transposed kernels are (h, w, out, in): scale the out axis.
            _check_filters(layer.kernel.shape[-2], factors)
            kernel = ops.convert_to_numpy(layer.kernel.value)
            layer.kernel.assign(kernel * factors[:, None])
        else:
            _scale_last_axis([layer.kernel], factors)
        if getattr(layer, "bias", None) is not None:
            _scale_last_axis([layer.bias], factors)
    else:
        raise ValueError(
            "A gate folds into a BatchNormalization, a GroupNormalization or "
            f"a layer with a `kernel`. Received: layer={layer.__class__.__name__}"
        )
