/**
 * /unread.js: the SDK's <imapbridge-unread> element (@imapbridge/sdk/unread)
 * as one file for a plain <script type="module"> (see /unread.html and the
 * SDK README's three-line embedding).
 */
import "../../sdk/src/unread.js";
