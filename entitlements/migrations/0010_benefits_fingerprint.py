"""benefits_fingerprint(), which entitlements.benefits_cache keys rendered benefits by.

A PL/pgSQL function keeps the plan of its query in each server session, which a plain query
would have planned again on every visit, and which a prepared statement can't do behind a
connection pooler in transaction mode (PgBouncer 1.18 shares server sessions between clients).
Only on PostgreSQL: elsewhere the benefits are rendered for every visit.
"""

from django.db import migrations

# Every row the rendered benefits show, as "table.id.xmin". Contracts and their last three
# incidents or service requests (as the page lists them) are reached through the company's
# requests, as the page reaches them. Users: the company's (activators, requesters) with their
# roles, and whoever opened the incidents shown. `txid_current_if_assigned()` is set once this
# transaction has written: its own rows carry its xid until it commits, so their fingerprint
# can't be trusted. It also lists the people the benefits name (requesters, openers of
# incidents): the page tells each of them "you", so each of them gets a page of their own.
#
# Transaction ids are a cluster's own, and a promoted standby or a restore to a point in time
# hands out again those of the transactions it lost: both show in the cluster's identity (its
# system identifier and timeline), read with every fingerprint, since a connection pooler may
# send the next query to another server. A standby has no identity here (NULL): no caching.
BENEFITS_FINGERPRINT = """
CREATE OR REPLACE FUNCTION benefits_fingerprint(company bigint, recent integer)
RETURNS TABLE (untouched boolean, rows text, named bigint[], cluster text)
LANGUAGE plpgsql STABLE AS $function$
BEGIN
RETURN QUERY
WITH requests AS (
    SELECT r.id, r.xmin, r.requested_by_id FROM activation_activationrequest r
    JOIN entitlements_membershipoffer o ON o.id = r.offer_id
    WHERE o.partner_id = company
), contracts AS (
    SELECT s.id, s.xmin FROM support_supportcontract s
    WHERE s.activation_id IN (SELECT id FROM requests)
), incidents AS (
    SELECT i.id, i.xmin, i.opened_by_id, i.product_version_id, i.service_id, i.customer_id
    FROM contracts s
    CROSS JOIN LATERAL (
        SELECT id, xmin, opened_by_id, product_version_id, service_id, customer_id
        FROM cases_case
        WHERE contract_id = s.id ORDER BY opened_at DESC, id DESC LIMIT recent
    ) i
)
SELECT txid_current_if_assigned() IS NULL, md5(string_agg(part, ' ' ORDER BY part)),
       ARRAY(SELECT requested_by_id FROM requests UNION SELECT opened_by_id FROM incidents),
       (SELECT CASE WHEN pg_is_in_recovery() THEN NULL
               ELSE system_identifier || '.' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)
               END
        FROM pg_control_system())
FROM (
    SELECT 'p.' || id || '.' || xmin FROM entitlements_partner WHERE id = company
  UNION ALL
    SELECT 'o.' || o.id || '.' || o.xmin || COALESCE(' c.' || c.id || '.' || c.xmin, '')
    FROM entitlements_membershipoffer o
    LEFT JOIN entitlements_competency c ON c.id = o.competency_id
    WHERE o.partner_id = company
  UNION ALL
    SELECT 'r.' || r.id || '.' || r.xmin || COALESCE(' u.' || u.id || '.' || u.xmin, '')
    FROM requests r
    LEFT JOIN accounts_user u ON u.id = r.requested_by_id
  UNION ALL
    SELECT 's.' || id || '.' || xmin FROM contracts
  UNION ALL
    SELECT 'i.' || i.id || '.' || i.xmin || ' u.' || u.id || '.' || u.xmin
        || COALESCE(' v.' || v.id || '.' || v.xmin || ' d.' || d.id || '.' || d.xmin, '')
        || COALESCE(' e.' || e.id || '.' || e.xmin || ' k.' || k.id || '.' || k.xmin, '')
    FROM incidents i
    JOIN accounts_user u ON u.id = i.opened_by_id
    -- An incident names a product version; a service request, a customer's service.
    LEFT JOIN support_productversion v ON v.id = i.product_version_id
    LEFT JOIN support_product d ON d.id = v.product_id
    LEFT JOIN customers_service e ON e.id = i.service_id
    LEFT JOIN customers_customer k ON k.id = i.customer_id
  UNION ALL
    SELECT 'u.' || id || '.' || xmin FROM accounts_user WHERE partner_id = company
  UNION ALL
    SELECT 'a.' || a.id || '.' || a.xmin FROM entitlements_roleassignment a
    JOIN accounts_user u ON u.id = a.user_id
    WHERE u.partner_id = company
) AS parts (part);
END
$function$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BENEFITS_FINGERPRINT)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS benefits_fingerprint(bigint, integer)")


class Migration(migrations.Migration):
    dependencies = [("entitlements", "0009_partner_support_for_partners")]

    operations = [migrations.RunPython(create, drop)]
