"""The embedded default's Celery broker: kombu's filesystem transport, made safe to share.

kombu's own filesystem transport (5.7) writes a message straight under its final name and a
reader takes any file with that name, so a worker polling while beat or the web server is
still writing reads half a message and dies on the JSONDecodeError (celery/kombu#1551). Here:

- a writer writes to ``<name>.part``, which no reader looks at, and renames it to ``<name>``
  when it is complete (a rename is atomic on one filesystem): a reader sees all or nothing;
- a reader reads a file and claims it by deleting it: of two workers only one delete succeeds,
  so each message is delivered once;
- a file that is not a message is moved to the quarantine folder beside the queue and logged
  as an error; the worker carries on with the next message.

Used through ``CELERY_BROKER_URL=atomicfs://`` (the alias is registered in celery.py), with
kombu's transport options plus ``quarantine_folder``.
"""

import logging
import os
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

PART = ".part"
# A .part file this old belongs to a writer that died mid-write: nobody will finish it.
ABANDONED_PART_SECONDS = 3600


class Channel(filesystem.Channel):
    @cached_property
    def quarantine_folder(self):
        default = Path(self.data_folder_in).parent / "quarantine"
        return Path(self.transport_options.get("quarantine_folder", default))

    def _put(self, queue, payload, **kwargs):
        """Write ``payload`` as a new message of ``queue``: complete, or not at all.

        Raises ChannelError when the file can't be written (disk full, folder missing).
        """
        # Names sort in sending order; kombu's readers pick the queue from what follows the
        # first dot, so "<queue>.msg.part" is nobody's queue.
        name = f"{int(time.monotonic() * 1000):015d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        part = final + PART
        data = str_to_bytes(dumps(payload))
        try:
            with open(part, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # the rename must not outlive the content in a power cut
            os.replace(part, final)
        except OSError as exc:
            Path(part).unlink(missing_ok=True)
            raise ChannelError(f"Cannot add message {name!r} to {self.data_folder_out}") from exc

    def _get(self, queue):
        """The next message of ``queue``, claimed by this process; raises Empty when none."""
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.endswith(PART):
                self._quarantine_if_abandoned(name)
                continue
            if name.partition(".")[2] != wanted:
                continue
            path = os.path.join(self.data_folder_in, name)
            try:
                with open(path, "rb") as f:
                    raw = f.read()
            except FileNotFoundError:
                continue  # another worker took it
            except OSError as exc:
                self._quarantine(name, f"unreadable: {exc}")
                continue
            try:
                payload = loads(bytes_to_str(raw))
                if not isinstance(payload, dict) or not isinstance(payload.get("properties"), dict):
                    raise ValueError("not a kombu message")
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                self._quarantine(name, f"not a message ({exc})")
                continue
            try:
                os.remove(path)
            except FileNotFoundError:
                continue  # another worker read it too and claimed it first
            return payload
        raise Empty()

    def get_table(self, exchange):
        # kombu creates an exchange's table by opening it (empty) and only then locking it; a
        # reader in between finds an empty file. It is complete a moment later.
        for _ in range(20):
            try:
                return super().get_table(exchange)
            except ValueError:
                time.sleep(0.05)
        return super().get_table(exchange)

    def _quarantine(self, name, reason):
        target = self.quarantine_folder / name
        try:
            self.quarantine_folder.mkdir(parents=True, exist_ok=True)
            os.replace(os.path.join(self.data_folder_in, name), target)
        except FileNotFoundError:
            return  # another worker moved it first
        except OSError:
            logger.exception("Broker: cannot move %s out of the queue; it is skipped", name)
            return
        logger.error("Broker: %s is %s; moved to %s, carrying on", name, reason, target)

    def _quarantine_if_abandoned(self, name):
        try:
            age = time.time() - os.path.getmtime(os.path.join(self.data_folder_in, name))
        except FileNotFoundError:
            return  # its writer just finished it
        if age > ABANDONED_PART_SECONDS:
            self._quarantine(name, f"a message left unfinished {age / 60:.0f} minutes ago")


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = driver_name = "atomicfs"
