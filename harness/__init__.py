"""Harness of the fullstack chart: local cluster, images, helm and waits.

Used by the noxfile (cluster bring-up, the `up` job) and by the end-to-end
tests. Nothing here is part of the chart.
"""
