"""``mfd train --config FILE.yaml [--resume] [--set section.key=value ...]``: train MFD or its baseline."""
from __future__ import annotations

import argparse

OUTPUTS = ()  # the run folder is named in the config (output:), not in an argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="training config (YAML): data, schema, model, training, output")
    parser.add_argument("--resume", action="store_true",
                        help="continue a stopped or killed run from OUTPUT/checkpoints/last.ckpt")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a config value, e.g. --set training.max_epochs=2 (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    import logging

    from ..train.config import load_train_config, parse_overrides
    from ..train.run import train

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = load_train_config(args.config, parse_overrides(args.set))
    model_path = train(config, resume=args.resume, progress=not args.quiet,
                       command=getattr(args, "command_line", None))
    print(f"trained model written to {model_path}")
    print(f"logs, checkpoints and plots in {config.output}")
    return 0
