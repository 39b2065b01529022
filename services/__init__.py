"""Nuanxin's services: bookings, volunteers, notifications, activities, and the HTTP gateway."""
import warnings

# eventlet announces its deprecation on import; nameko 2.x still needs it (see docs/architecture.md).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
