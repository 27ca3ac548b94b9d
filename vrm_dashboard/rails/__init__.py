"""Payment rails: how money actually leaves, behind small protocols (rails.base).

File rails (SEPA pain.001, NACHA) turn a set of transfers into one file for the bank; the
online provider takes transfers under their idempotency keys and reports the outcome later;
the manual rail waits for a person to pay and record the bank reference. rails.registry
builds the implementation of each rail from the configuration.
"""
