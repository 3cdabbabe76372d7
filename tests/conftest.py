import os
import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# Every write in the tests parses each part it makes whole, the rows made from wbs_tools's templates and
# encoded values included (a refresh proves those by construction: package_edit); the commands the
# tests run in subprocesses inherit it. Tests of the refresh as shipped unset it.
os.environ.setdefault("WBS_TOOLS_CHECK_ALL_XML", "1")

# CI replays the same generated examples on every run (a red build is then always reproducible);
# runs elsewhere keep exploring new ones. `.ci/run` selects the profile.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
