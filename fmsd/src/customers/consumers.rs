//! The events customers reacts to. It owns the account and is told nothing by other services
//! today; its events flow outwards only. Kept so every service has the same shape.
