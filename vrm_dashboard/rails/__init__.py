"""Payment rails: how money actually leaves, behind one small interface (rails.base).

File rails (SEPA pain.001, NACHA) turn a set of transfers into one file for the bank; the
online provider takes one transfer at a time and reports the outcome later; the manual rail
waits for a person to pay and record the bank reference.
"""
