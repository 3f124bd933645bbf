"""careqa: cited answers from a collection of health and social care policy documents."""
from .config import Settings
from .errors import CareqaError

__version__ = "0.1.0"
__all__ = ["Settings", "CareqaError", "Assistant", "__version__"]


def __getattr__(name):
    if name == "Assistant":
        from .assistant import Assistant

        return Assistant
    raise AttributeError(name)
