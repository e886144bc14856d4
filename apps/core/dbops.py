"""Schema operations that Django's migrations do not offer or get wrong, for big tables.

``field_index_dropped``: ``AlterField`` to ``db_index=False`` drops every one-column b-tree
index it finds on the column, not only the field's own: on cards.resident it also dropped the
partial unique index behind "one current card per resident" and the notice job's partial
index. This drops the field's index by name and nothing else.

``unique_field_to_constraint``: Django gives a ``unique=True`` CharField two indexes, the
unique one and a ``varchar_pattern_ops`` copy for LIKE, which nothing uses when the column is
only ever matched by equality (at 3,000,000 residents the copy on the My Number's blind index
is 354 MB that every insert updates). Declaring the uniqueness as a ``UniqueConstraint``
instead loses the copy; letting Django do that would drop and rebuild the unique index too.
This operation keeps the unique index (renamed to the constraint's name) and drops only the
copy, so the migration takes a moment whatever the table's size.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

_FORWARD = """
DO $$
DECLARE
    hit record;
BEGIN
    -- The LIKE copies: one-column indexes of this column in a pattern operator class.
    FOR hit IN
        SELECT index.relname
        FROM pg_index x
        JOIN pg_class index ON index.oid = x.indexrelid
        JOIN pg_opclass opclass ON opclass.oid = x.indclass[0]
        JOIN pg_attribute att ON att.attrelid = x.indrelid AND att.attnum = x.indkey[0]
        WHERE x.indrelid = '{table}'::regclass AND x.indnatts = 1 AND att.attname = '{column}'
          AND opclass.opcname IN ('varchar_pattern_ops', 'text_pattern_ops')
    LOOP
        EXECUTE format('DROP INDEX %I', hit.relname);
    END LOOP;
    -- The unique constraint of exactly this column, whatever it was called.
    SELECT con.conname AS name INTO hit
    FROM pg_constraint con
    JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
    WHERE con.conrelid = '{table}'::regclass AND con.contype = 'u'
      AND cardinality(con.conkey) = 1 AND att.attname = '{column}';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no unique constraint on {table}.{column}';
    END IF;
    EXECUTE format('ALTER TABLE {table} RENAME CONSTRAINT %I TO {constraint}', hit.name);
END $$;
"""

_REVERSE = """
ALTER TABLE {table} RENAME CONSTRAINT {constraint} TO {table}_{column}_key;
CREATE INDEX {table}_{column}_like ON {table} ({column} varchar_pattern_ops);
"""


def unique_field_to_constraint(
    *, model_name: str, field_name: str, field: models.Field[Any, Any], table: str, constraint: str
) -> migrations.SeparateDatabaseAndState:
    """The state moves ``field_name`` (now declared as ``field``, without ``unique``) to a
    ``UniqueConstraint`` named ``constraint``; the database keeps its unique index."""
    column = field.db_column or field_name
    names = {"table": table, "column": column, "constraint": constraint}
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(model_name=model_name, name=field_name, field=field),
            migrations.AddConstraint(
                model_name=model_name,
                constraint=models.UniqueConstraint(fields=[field_name], name=constraint),
            ),
        ],
        database_operations=[
            migrations.RunSQL(_FORWARD.format(**names), _REVERSE.format(**names)),
        ],
    )


def field_index_dropped(
    *, model_name: str, field_name: str, field: models.Field[Any, Any], table: str, index: str
) -> migrations.SeparateDatabaseAndState:
    """The state gets ``field`` (declared with ``db_index=False``); the database loses the
    index named ``index`` (the one Django made for the field), and only that one."""
    column = field.db_column or (f"{field_name}_id" if field.is_relation else field_name)
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(model_name=model_name, name=field_name, field=field)
        ],
        database_operations=[
            migrations.RunSQL(
                f"DROP INDEX IF EXISTS {index}", f"CREATE INDEX {index} ON {table} ({column})"
            )
        ],
    )
