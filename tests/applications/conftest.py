from tests.fees.conftest import default_fee_schedule

__all__ = ["default_fee_schedule"]
