from kgan.plots import plot_runs, pyplot


def test_plot_runs_colours_and_labels_by_group():
    plt = pyplot()
    figure, axes = plt.subplots(1, 2)
    rows = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]
    runs = [("x", [0, 1], rows), ("y", [0, 1], rows), ("x", [0, 2], rows)]
    plot_runs(axes, runs, ["a", "b"], alpha=0.5)
    for axis, key in zip(axes, "ab", strict=True):
        lines = axis.get_lines()
        assert len(lines) == 3
        assert [line.get_label() for line in lines][:2] == ["x", "y"]
        assert lines[2].get_label().startswith("_")  # one legend entry a group
        assert lines[0].get_color() == lines[2].get_color() != lines[1].get_color()
        assert list(lines[2].get_xdata()) == [0, 2]
        assert list(lines[0].get_ydata()) == [row[key] for row in rows]
        assert lines[0].get_alpha() == 0.5
    plt.close(figure)
