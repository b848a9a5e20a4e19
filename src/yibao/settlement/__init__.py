"""Settlement (结算): the one-stop split of a bill between every payer."""
