-- The public version of each signed reply: the same reply, the addressee
-- replaced by "Người phản ánh" and the address left out, signed with the
-- same key version at the same time. The public register serves only
-- this version; the petitioner and staff get the personal one. Never
-- changed.
CREATE TABLE public_replies (
    reply_id  uuid PRIMARY KEY REFERENCES signed_replies (reply_id),
    pdf       bytea NOT NULL,
    sha256    text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size      integer NOT NULL
);

CREATE FUNCTION public_replies_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'public replies are immutable';
END $$;
CREATE TRIGGER public_replies_no_update_delete
    BEFORE UPDATE OR DELETE ON public_replies
    FOR EACH ROW EXECUTE FUNCTION public_replies_immutable();
CREATE TRIGGER public_replies_no_truncate
    BEFORE TRUNCATE ON public_replies
    FOR EACH STATEMENT EXECUTE FUNCTION public_replies_immutable();

REVOKE ALL ON public_replies FROM PUBLIC;
GRANT SELECT, INSERT ON public_replies TO {{.app_role}};
