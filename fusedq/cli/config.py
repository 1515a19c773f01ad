"""`fusedq config`: print show_config()."""
HELP = "show the backend in force and why, SIMD target, OpenMP and threads"


def add_arguments(parser):
    pass


def run(args) -> int:
    import fusedq
    print(fusedq.show_config())
    return 0
