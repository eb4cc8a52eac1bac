"""fsapps' dialplan applications; importing this package registers them all."""

from fsapps.apps import announce, welcome  # noqa: F401  (registration)
from fsapps.apps.registry import APPLICATIONS, application

__all__ = ["APPLICATIONS", "application"]
