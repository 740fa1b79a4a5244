//! AWS Config: recorder, delivery channel, recorder status and rules.
