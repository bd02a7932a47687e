-- Service users with key-pair authentication (no passwords). Run as SECURITYADMIN.
--
-- Generate the key pair outside Snowflake (the private key goes to Key Vault, never to git):
--   openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes-256-cbc -inform PEM -out wdp_loader.p8
--   openssl rsa -in wdp_loader.p8 -pubout -out wdp_loader.pub
-- The loader reads it via WDP_SNOWFLAKE_PRIVATE_KEY_PATH (+ _PASSPHRASE), mounted from Key Vault.
-- Rotation: set RSA_PUBLIC_KEY_2, roll the secret, then unset RSA_PUBLIC_KEY.

USE ROLE SECURITYADMIN;

CREATE USER IF NOT EXISTS WDP_LOADER_SVC
    TYPE = SERVICE                              -- no password, no MFA prompts, no UI login
    DEFAULT_ROLE = WDP_LOADER
    DEFAULT_WAREHOUSE = WDP_LOAD_WH
    DEFAULT_NAMESPACE = WHOOP.BRONZE
    RSA_PUBLIC_KEY = '<paste wdp_loader.pub body without header/footer>'
    COMMENT = 'loader service (key-pair auth)';
GRANT ROLE WDP_LOADER TO USER WDP_LOADER_SVC;

CREATE USER IF NOT EXISTS WDP_TRANSFORMER_SVC
    TYPE = SERVICE
    DEFAULT_ROLE = WDP_TRANSFORMER
    DEFAULT_WAREHOUSE = WDP_TRANSFORM_WH
    DEFAULT_NAMESPACE = WHOOP.SILVER
    RSA_PUBLIC_KEY = '<paste wdp_transformer.pub>'
    COMMENT = 'dbt in the transformer service (key-pair auth)';
GRANT ROLE WDP_TRANSFORMER TO USER WDP_TRANSFORMER_SVC;

CREATE USER IF NOT EXISTS WDP_SCORER_SVC
    TYPE = SERVICE
    DEFAULT_ROLE = WDP_SCORER
    DEFAULT_WAREHOUSE = WDP_TRANSFORM_WH
    DEFAULT_NAMESPACE = WHOOP.GOLD
    RSA_PUBLIC_KEY = '<paste wdp_scorer.pub>'
    COMMENT = 'scorer service (key-pair auth)';
GRANT ROLE WDP_SCORER TO USER WDP_SCORER_SVC;

-- Optional hardening: only the Container Apps egress IPs may log in as the service users.
-- CREATE NETWORK POLICY WDP_SERVICES_ONLY ALLOWED_IP_LIST = ('<egress ip>/32');
-- ALTER USER WDP_LOADER_SVC SET NETWORK_POLICY = WDP_SERVICES_ONLY;
