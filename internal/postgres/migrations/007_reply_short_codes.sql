-- A reply's short verification code is the last group of its id (48 random
-- bits): printed on the page, typed at /verify/{code}.
CREATE UNIQUE INDEX signed_replies_short_code ON signed_replies ((right(reply_id::text, 12)));
