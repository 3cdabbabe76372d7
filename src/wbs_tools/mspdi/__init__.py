"""Microsoft Project XML (MSPDI): read plans, write schedules with their computed fields."""

from wbs_tools.mspdi.reader import MspdiError, read_mspdi
from wbs_tools.mspdi.writer import write_mspdi

__all__ = ["MspdiError", "read_mspdi", "write_mspdi"]
