# Every table of the service shares one metadata: the actions' models first, then charity's (which builds
# on them), so whatever imports either sees them all (Alembic, the mappers' string relationships).
from services.volunteers import models  # noqa: E402,F401
from services.volunteers.charity import models as charity_models  # noqa: E402,F401
