/** Stands in for Node's crypto in the browser build; nothing reads it (WebCrypto is there). */
export default {};
