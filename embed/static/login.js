// The login page. A link to a message (/r/{room}#msg-{id}) that brought
// someone here to log in takes them on to that message: the form posts to
// an address with the same fragment, and a browser gives a redirect
// without one the fragment of the address it came from.
const form = document.getElementById("login-form");
if (/^#msg-\d+$/.test(location.hash)) form.action = "/login" + location.hash;
