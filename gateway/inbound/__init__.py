"""Changes in: how Crossdock hears of changes made directly in the CRM and the ERP (issue 16).

    receivers      POST /hooks/zoho and /hooks/erpnext: authenticated notifications
    registration   the Zoho watch channel and the ERPNext webhooks, kept registered
    poll           the catch-up poll by watermark: lost notifications, downtime, no push
    service        the three together, started and stopped with the app (`[inbound]`)

Everything ends in a `ChangeSink.put` (resolvers.sync.change): the durable inbox of `[sync]`
when it runs, else (gateway.inbound.sinks.BusSink) straight onto the subscriptions' bus.
"""
