"""The Progressive GAN's level-of-detail schedule, driven by images shown."""

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Phase:
    """A stretch of training at one level: stable, or fading the level in.

    Attributes:
        resolution: The level's resolution.
        fading: Whether the level fades in over this phase (alpha 0 -> 1).
        start: Images shown when the phase starts.
        end: Images shown when it ends (`math.inf` for the last phase).
    """

    resolution: int
    fading: bool
    start: float
    end: float

    def alpha(self, images_shown):
        """The fade-in alpha at `images_shown` (1 in a stable phase)."""
        if not self.fading:
            return 1.0
        return min(1.0, max(0.0, (images_shown - self.start) / (self.end - self.start)))


def phases(levels, training_kimg, transition_kimg):
    """PGGAN's schedule: each level is trained for `training_kimg` thousand
    images, then the next one fades in over `transition_kimg` thousand; the
    last level trains on without end.

    Args:
        levels: Resolutions from 4 up, e.g. `resolution_levels(32)`.
        training_kimg: Thousands of images of stable training per level.
        transition_kimg: Thousands of images of each fade-in.

    Returns:
        The list of `Phase`s in order.
    """
    for name, value in (
        ("training_kimg", training_kimg),
        ("transition_kimg", transition_kimg),
    ):
        if not value > 0:
            raise ValueError(f"`{name}` must be positive. Received: {name}={value}")
    result, start = [], 0.0
    stable, fade = training_kimg * 1000.0, transition_kimg * 1000.0
    for index, level in enumerate(levels):
        if index > 0:
            result.append(Phase(level, True, start, start + fade))
            start += fade
        end = math.inf if index == len(levels) - 1 else start + stable
        result.append(Phase(level, False, start, end))
        start = end
    return result


def phase_at(schedule, images_shown):
    """The phase of `schedule` that holds `images_shown`."""
    if images_shown < 0:
        raise ValueError(
            "`images_shown` must be non-negative. "
            f"Received: images_shown={images_shown}"
        )
    for phase in schedule:
        if phase.start <= images_shown < phase.end:
            return phase
    return schedule[-1]
