"""`python -m bot`: load the configuration, run the shop until SIGTERM or SIGINT.

bot.launch decides between the shop and the sandbox; the sandbox package (the stand-ins, the
play page) is imported only once it is chosen, so production never even loads it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot import logging_setup
from bot.app import ShopApp
from bot.config import ConfigError, Settings, load_settings
from bot.launch import choose_launch
from bot.startup import StartupError

log = logging.getLogger("bot")


async def serve(settings: Settings) -> None:
    app = ShopApp(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    starting = asyncio.create_task(app.start())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # raise a start-up failure
            await stopping
        else:
            starting.cancel()
        log.info("shutting down")
    finally:
        stopping.cancel()
        await app.stop()


def _refused(error: ConfigError, hint: str | None = None) -> int:
    print(error, file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)
    return 2


def main() -> int:
    try:
        launch = choose_launch()
    except ConfigError as error:
        return _refused(error)
    if launch.sandbox:
        from sandbox.run import main as run_sandbox

        return run_sandbox()
    try:
        settings = load_settings()
    except ConfigError as error:
        return _refused(error, launch.sandbox_hint)
    logging_setup.configure(
        settings.log_level,
        [
            settings.telegram_bot_token,
            settings.stripe_secret_key,
            settings.stripe_webhook_secret,
            settings.telegram_webhook_secret,
        ],
    )
    try:
        asyncio.run(serve(settings))
    except StartupError as error:
        log.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
