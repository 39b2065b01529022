"""gunicorn entry: `gunicorn services.gateway.wsgi:app`."""
import logging

from services.gateway.app import create_app


class AccessLogRequestId(logging.Filter):
    """Appends the response's X-Request-ID to each gunicorn access-log line.

    gunicorn formats access lines from its atoms, where `{x-request-id}o` names a response header; adding
    it here keeps the request id in the access log when the command line did not ask for it already.
    """

    def filter(self, record):
        if isinstance(record.args, dict) and "x-request-id" not in str(record.msg).lower():
            record.msg = f"{record.msg} request_id=%({{x-request-id}}o)s"
        return True


logging.getLogger("gunicorn.access").addFilter(AccessLogRequestId())
app = create_app()
