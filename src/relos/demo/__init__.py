"""The demo data set that ``relos demo`` loads: India–Russia RELOS and India–US LEMOA.

``relos.yaml`` holds the reference records (parties, agreements, facilities, units, price lists) in
the shape :func:`relos.services.catalogue.load` reads; :mod:`relos.services.demo` loads it and
drives a year of orders through the ordering services.
"""
