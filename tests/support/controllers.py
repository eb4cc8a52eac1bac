"""Controllers and emulators wired as a deployment wires them: the wiring lives in the
package (fsapps.testing.wiring), where ``fsapps demo`` uses it too."""

from fsapps.testing.wiring import load_rendered, start_controller, switch_on_conf

__all__ = ["load_rendered", "start_controller", "switch_on_conf"]
