"""Spaces and bookings."""
from __future__ import annotations

from flask_smorest import Blueprint

from services.bookings.schemas import BookingRequestSchema, BookingSchema, SpaceSchema
from services.gateway.api import SECURED, call, created, json_body, respond

blp = Blueprint("bookings", __name__, description="Shared spaces and their bookings")


@blp.get("/spaces")
@blp.response(200, SpaceSchema(many=True))
@blp.doc(security=SECURED)
def list_spaces():
    """Every active space."""
    return respond(call("bookings", "list_spaces"))


@blp.post("/bookings")
@blp.arguments(BookingRequestSchema)
@blp.response(201, BookingSchema)
@blp.alt_response(409, description="The time overlaps existing bookings (each one is listed)")
@blp.doc(security=SECURED)
def create_booking(_data):
    """Book a space."""
    booking = call("bookings", "create_booking", json_body())
    return created(booking, f"/api/v1/bookings/{booking['id']}")


@blp.get("/bookings/<int:booking_id>")
@blp.response(200, BookingSchema)
@blp.doc(security=SECURED)
def get_booking(booking_id):
    """One booking with its occurrences."""
    return respond(call("bookings", "get_booking", booking_id))
