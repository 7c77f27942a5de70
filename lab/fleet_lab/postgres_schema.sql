-- kas-fleet-manager's tables as upstream's gorm AutoMigrate leaves them (bf2fc6cc711aee1a0c2a/kas-fleet-manager
-- @ 9b598c7f; see /work/shared/reference/upstream-kas-fleet-manager.md section 1). Go string -> text,
-- bool -> boolean, time.Time -> timestamptz, api.JSON -> jsonb; db.Model gives id/created_at/updated_at/deleted_at
-- with an index on deleted_at (soft delete: live rows are WHERE deleted_at IS NULL).
-- Run by fleet_lab.postgres as the app owner (ocm) in database "kas-fleet-manager" when it builds its template.

-- gormigrate's bookkeeping table
CREATE TABLE migrations (
    id varchar(255) PRIMARY KEY
);

CREATE TABLE clusters (
    id text PRIMARY KEY,
    created_at timestamptz,
    updated_at timestamptz,
    deleted_at timestamptz,
    cloud_provider text,
    cluster_id text,
    external_id text,
    multi_az boolean,
    region text,
    status text,
    identity_provider_id text,
    cluster_dns text,
    provider_type text,
    provider_spec text,
    cluster_spec text,
    available_strimzi_versions jsonb,
    supported_instance_type text DEFAULT 'standard,eval',
    client_id text,
    client_secret text,
    dynamic_capacity_info jsonb,
    cluster_type text DEFAULT 'managed',
    organization_id text,
    access_kafkas_via_private_network boolean DEFAULT false
);
CREATE INDEX idx_clusters_deleted_at ON clusters (deleted_at);
-- 202009101015_add_clusters.go (ClusterID `gorm:"index"`) made idx_clusters_cluster_id; 20210419164730_add_indexes.go
-- added the unique uix_clusters_cluster_id beside it and no migration drops the first: upstream has both.
CREATE INDEX idx_clusters_cluster_id ON clusters (cluster_id);
CREATE UNIQUE INDEX uix_clusters_cluster_id ON clusters (cluster_id);
CREATE INDEX idx_clusters_status ON clusters (status);
CREATE INDEX idx_clusters_supported_instance_type ON clusters (supported_instance_type);

CREATE TABLE kafka_requests (
    id text PRIMARY KEY,
    created_at timestamptz,
    updated_at timestamptz,
    deleted_at timestamptz,
    region text,
    cluster_id text,
    cloud_provider text,
    multi_az boolean DEFAULT false,
    name text,
    status text,
    subscription_id text,
    owner text,
    owner_account_id text,
    bootstrap_server_host text,
    organisation_id text,
    failed_reason text,
    placement_id text,
    desired_kafka_version text,
    actual_kafka_version text,
    desired_strimzi_version text,
    actual_strimzi_version text,
    desired_kafka_ibp_version text,
    actual_kafka_ibp_version text,
    kafka_upgrading boolean DEFAULT false,
    strimzi_upgrading boolean DEFAULT false,
    kafka_ibp_upgrading boolean DEFAULT false,
    quota_type text,
    instance_type text,
    routes jsonb,
    routes_created boolean DEFAULT false,
    routes_creation_id text DEFAULT '',
    canary_service_account_client_id text,
    canary_service_account_client_secret text,
    namespace text DEFAULT '',
    reauthentication_enabled boolean DEFAULT true,
    max_data_retention_size text DEFAULT '1000Gi',
    size_id text DEFAULT 'x1',
    admin_api_server_url text,
    billing_cloud_account_id text,
    marketplace text,
    actual_kafka_billing_model text,
    desired_kafka_billing_model text,
    expires_at timestamptz,
    promotion_status text,
    promotion_details text,
    kafkas_routes_base_domain_name text,
    kafkas_routes_base_domain_tls_key_ref text,
    kafkas_routes_base_domain_tls_crt_ref text
);
CREATE INDEX idx_kafka_requests_deleted_at ON kafka_requests (deleted_at);
CREATE INDEX idx_kafka_requests_cluster_id ON kafka_requests (cluster_id);
CREATE INDEX idx_kafka_requests_name ON kafka_requests (name);
CREATE INDEX idx_kafka_requests_status ON kafka_requests (status);
CREATE INDEX idx_kafka_requests_owner ON kafka_requests (owner);
CREATE INDEX idx_kafka_requests_organisation_id ON kafka_requests (organisation_id);

CREATE TABLE leader_leases (
    id text PRIMARY KEY,
    created_at timestamptz,
    updated_at timestamptz,
    deleted_at timestamptz,
    leader text,
    lease_type text,
    expires timestamptz
);
CREATE INDEX idx_leader_leases_deleted_at ON leader_leases (deleted_at);

CREATE TABLE distributed_locks (
    id text PRIMARY KEY
);

INSERT INTO migrations (id) VALUES
    ('202009040909'), ('202009101015'), ('202009171326'), ('202009241300'), ('202012031820'), ('202012111100'),
    ('202103081539'), ('20210419164730'), ('20210420164730'), ('20210505164730'), ('20210510164730'),
    ('20210517091500'), ('20210517153800'), ('20210531100000'), ('20210624120900'), ('20210628150600'),
    ('20210707140000'), ('20210708100000'), ('20210713135700'), ('20210928130000'), ('20211018091500'),
    ('20220201101500'), ('20220330101500'), ('20220504154000'), ('20220622140000'), ('20220720180000'),
    ('20220829180000'), ('20220829190000'), ('20220829200000'), ('20221129121515'), ('20221202120000'),
    ('20221213120000'), ('20221214130000'), ('20230111120000'), ('20230125110000'), ('20230125120000'),
    ('20230214160000'), ('20230317160000'), ('20230329160000');
