"""An example host application: a tiny invoicing program that sends its invoices through mailport.

It shows the whole integration in a few hundred lines — customers pushed to mailport as contacts,
an invoice PDF, sending with an idempotency key, a webhook receiver that verifies signatures, each
invoice's delivery status, and the button that opens mailport's Settings › E-mail page.
"""
