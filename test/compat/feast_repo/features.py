"""Feast definitions read by `feast apply` (test/compat/test_feast.py).

Feature views for each kind of entity key switchyard's `format: feast` views read: an INT64
key (driver_id), a STRING key (customer_id) and a compound key (driver_id and customer_id).
driver_daily shares driver_hourly_stats' entity, so Feast keeps both views' features in the
same Redis hash per driver. The parquet sources are written by the test at run time.
"""

from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Bool, Float32, Float64, Int32, Int64

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)

driver_stats_source = FileSource(
    name="driver_stats_source",
    path="data/driver_stats.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)

driver_daily_source = FileSource(
    name="driver_daily_source",
    path="data/driver_daily.parquet",
    timestamp_field="event_timestamp",
)

customer_profile_source = FileSource(
    name="customer_profile_source",
    path="data/customer_profile.parquet",
    timestamp_field="event_timestamp",
)

driver_customer_source = FileSource(
    name="driver_customer_source",
    path="data/driver_customer.parquet",
    timestamp_field="event_timestamp",
)

# ttl: materialize_incremental starts at now - ttl, so an entity whose latest event is older
# never reaches the online store
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[
        Field(name="conv_rate", dtype=Float32),
        Field(name="acc_rate", dtype=Float64),
        Field(name="avg_daily_trips", dtype=Int64),
        Field(name="trips_today", dtype=Int32),
        Field(name="is_active", dtype=Bool),
    ],
    online=True,
    source=driver_stats_source,
)

driver_daily = FeatureView(
    name="driver_daily",
    entities=[driver],
    ttl=timedelta(days=2),
    schema=[Field(name="rating", dtype=Float64)],
    online=True,
    source=driver_daily_source,
)

customer_profile = FeatureView(
    name="customer_profile",
    entities=[customer],
    ttl=timedelta(days=7),
    schema=[
        Field(name="lifetime_value_micros", dtype=Int64),
        Field(name="age", dtype=Int32),
        Field(name="orders", dtype=Int64),
    ],
    online=True,
    source=customer_profile_source,
)

driver_customer_stats = FeatureView(
    name="driver_customer_stats",
    entities=[driver, customer],
    ttl=timedelta(days=1),
    schema=[
        Field(name="rides_together", dtype=Int64),
        Field(name="avg_rating", dtype=Float64),
    ],
    online=True,
    source=driver_customer_source,
)
